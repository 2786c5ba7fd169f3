# `threadsim export` end to end: golden SVGs, --real/--compare, the gallery
# (tests/golden/test_export.py; its docstring says how to regenerate). The
# gallery check simulates every bundled scenario, which sanitizers make too
# slow; its images are the same bytes in any build, so the plain build's
# run of it suffices.
if(THREADSIM_PYTHON)
  set(THREADSIM_EXPORT_TEST_ARGS --threadsim $<TARGET_FILE:threadsim> --source-dir ${PROJECT_SOURCE_DIR})
  if(THREADSIM_SANITIZE)
    list(APPEND THREADSIM_EXPORT_TEST_ARGS --skip-gallery)
  endif()
  add_test(NAME export_e2e
    COMMAND ${THREADSIM_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_export.py ${THREADSIM_EXPORT_TEST_ARGS})
  set_tests_properties(export_e2e PROPERTIES TIMEOUT 600)
endif()
