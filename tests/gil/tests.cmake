add_test(NAME gil COMMAND ${THREADSIM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/gil/test_gil.py
         --threadsim $<TARGET_FILE:threadsim> --scenarios ${PROJECT_SOURCE_DIR}/scenarios/gil)
set_tests_properties(gil PROPERTIES TIMEOUT 300)
