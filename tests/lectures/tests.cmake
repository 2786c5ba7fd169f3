# The lecture examples (scenarios/lectures/): each scenario's lesson, checked
# by running the threadsim binary (tests/lectures/test_lectures.py).
if(THREADSIM_PYTHON)
  add_test(NAME lectures
    COMMAND ${THREADSIM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/lectures/test_lectures.py
            --threadsim $<TARGET_FILE:threadsim> --scenarios ${PROJECT_SOURCE_DIR}/scenarios/lectures)
  set_tests_properties(lectures PROPERTIES TIMEOUT 600)
endif()
