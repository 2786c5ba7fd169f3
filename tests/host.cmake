# Tests of the real runner (host/): cmocka executables labelled `host` so the
# TSan build can run just these (ctest -L host).
set(THREADSIM_HOST_TESTS
  host_kernels
  host_runner
  host_gil
)
foreach(t IN LISTS THREADSIM_HOST_TESTS)
  add_executable(test_${t} test_${t}.c)
  threadsim_target_setup(test_${t})
  target_link_libraries(test_${t} PRIVATE threadsim_host threadsim_sim PkgConfig::CMOCKA PkgConfig::CJSON Threads::Threads)
  target_compile_definitions(test_${t} PRIVATE
    THREADSIM_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    THREADSIM_BINARY="$<TARGET_FILE:threadsim>")
  add_test(NAME ${t} COMMAND test_${t})
  set_tests_properties(${t} PROPERTIES TIMEOUT 120 LABELS host)
endforeach()
# its timings mean something only without other tests competing for the CPUs
set_tests_properties(host_gil PROPERTIES RUN_SERIAL TRUE)

# End-to-end tests of `threadsim real` (tests/e2e/test_real.py).
if(THREADSIM_PYTHON)
  add_test(NAME real_e2e
    COMMAND ${THREADSIM_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/e2e/test_real.py
            --threadsim $<TARGET_FILE:threadsim> --source-dir ${PROJECT_SOURCE_DIR})
  set_tests_properties(real_e2e PROPERTIES TIMEOUT 300 LABELS host)
endif()

# What a real run leaves after a crash, Ctrl-C and the watchdog (tests/e2e/test_cleanup.py).
if(THREADSIM_PYTHON)
  add_test(NAME real_cleanup_e2e
    COMMAND ${THREADSIM_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/e2e/test_cleanup.py
            --threadsim $<TARGET_FILE:threadsim>)
  set_tests_properties(real_cleanup_e2e PROPERTIES TIMEOUT 120 LABELS host)
endif()
