# The JSON Schema of scenarios (docs/scenario.schema.json) checked against
# the bundled scenarios, the fixtures in tests/data/ and the loader itself.
if(THREADSIM_PYTHON)
  add_test(NAME schema_scenarios
    COMMAND ${THREADSIM_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/check_schema.py
            --threadsim $<TARGET_FILE:threadsim> --source-dir ${PROJECT_SOURCE_DIR})
  set_tests_properties(schema_scenarios PROPERTIES TIMEOUT 300)
endif()
