# Runs a 30-second libFuzzer session on a fresh copy of the seed corpus, so
# the source tree is never written. Called by the ctest fuzz_scenario_short
# with -DFUZZER=... -DSEEDS=... -DDICT=... -DWORKDIR=...
file(REMOVE_RECURSE ${WORKDIR})
file(MAKE_DIRECTORY ${WORKDIR}/artifacts)
file(COPY ${SEEDS}/ DESTINATION ${WORKDIR}/corpus)
execute_process(
  COMMAND ${FUZZER} -max_total_time=30 -timeout=5 -rss_limit_mb=2048 -dict=${DICT}
          -artifact_prefix=${WORKDIR}/artifacts/ ${WORKDIR}/corpus
  WORKING_DIRECTORY ${WORKDIR}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the fuzzer found a problem (exit ${rc}); the input is in ${WORKDIR}/artifacts")
endif()
