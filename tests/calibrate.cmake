# Tests of host calibration and of the comparison with real runs. Labelled
# calibrate, not host: the TSan build (make test-tsan) checks the runner, and
# a calibration holds more mutexes at once than its deadlock detector tracks.
set(THREADSIM_CALIB_TESTS
  calibrate
)
foreach(t IN LISTS THREADSIM_CALIB_TESTS)
  add_executable(test_${t} test_${t}.c)
  threadsim_target_setup(test_${t})
  target_link_libraries(test_${t} PRIVATE threadsim_host threadsim_sim PkgConfig::CMOCKA PkgConfig::CJSON Threads::Threads)
  target_compile_definitions(test_${t} PRIVATE
    THREADSIM_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    THREADSIM_BINARY="$<TARGET_FILE:threadsim>")
  add_test(NAME ${t} COMMAND test_${t})
  set_tests_properties(${t} PROPERTIES TIMEOUT 120 LABELS calibrate)
endforeach()

# compare's report is cli code: the test builds it with its writers.
add_executable(test_compare_report test_compare_report.c
  ${PROJECT_SOURCE_DIR}/cli/compare_report.c ${PROJECT_SOURCE_DIR}/cli/report.c)
threadsim_target_setup(test_compare_report)
target_link_libraries(test_compare_report PRIVATE threadsim_scheduler threadsim_sim PkgConfig::CMOCKA PkgConfig::CJSON Threads::Threads)
add_test(NAME compare_report COMMAND test_compare_report)
set_tests_properties(compare_report PROPERTIES TIMEOUT 60)

if(THREADSIM_PYTHON)
  add_test(NAME calibrate_e2e
    COMMAND ${THREADSIM_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/e2e/test_calibrate.py
            --threadsim $<TARGET_FILE:threadsim> --source-dir ${PROJECT_SOURCE_DIR})
  # 43-58 s in CI's sanitizer build beside the other tests, and over 120 s
  # there when two other busy programs held both CPUs
  set_tests_properties(calibrate_e2e PROPERTIES TIMEOUT 300)
endif()
