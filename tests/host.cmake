# Tests of the real runner (host/): cmocka executables labelled `host` so the
# TSan build can run just these (ctest -L host).
set(THREADSIM_HOST_TESTS
  host_kernels
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
