"""The lab: runs a producer (an engine run, a database run, a Hermitage scenario, a
shrink) or a limited check, judges the history in memory (`judge(ops)`, the same
validation and core as `mvcc-check check` on the saved file), and returns frozen
results that report/ renders. The producers (engine/, db/) never import the checker;
the lab is where the two meet."""
