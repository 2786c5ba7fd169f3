# End-to-end tests of the threadsim command (tests/e2e/test_cli.py).
if(THREADSIM_PYTHON)
  add_test(NAME cli_e2e
    COMMAND ${THREADSIM_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_cli.py
            --threadsim $<TARGET_FILE:threadsim> --source-dir ${PROJECT_SOURCE_DIR})
  set_tests_properties(cli_e2e PROPERTIES TIMEOUT 300)
endif()
