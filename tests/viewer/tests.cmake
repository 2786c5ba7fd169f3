# End-to-end tests of threadsim view on SDL's dummy video driver.
if(THREADSIM_PYTHON)
  add_test(NAME viewer_e2e
    COMMAND ${THREADSIM_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_view.py
            --threadsim $<TARGET_FILE:threadsim> --source-dir ${PROJECT_SOURCE_DIR})
  set_tests_properties(viewer_e2e PROPERTIES TIMEOUT 300)
endif()
