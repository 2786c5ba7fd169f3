# The independent scheduling oracles (Python 3, stdlib only) and the tests that
# compare threadsim's answers with them and with the textbooks' answers.
if(THREADSIM_PYTHON)
  add_test(NAME oracle_self_check
    COMMAND ${THREADSIM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/oracle/test_textbook.py --self-check)
  add_test(NAME oracle_textbook
    COMMAND ${THREADSIM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/oracle/test_textbook.py
            --threadsim $<TARGET_FILE:threadsim>)
  add_test(NAME oracle_random
    COMMAND ${THREADSIM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/oracle/test_ostep.py
            --threadsim $<TARGET_FILE:threadsim>)
  set_tests_properties(oracle_self_check oracle_textbook PROPERTIES TIMEOUT 120)
  set_tests_properties(oracle_random PROPERTIES TIMEOUT 600)
endif()
