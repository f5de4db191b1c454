"""The complete search: what Elle's inference leaves open, decided.

After the inference, some version orders are still open (register writes no
read puts in order, appends no read shows). For each model asked about, this
package decides whether some completion of those orders avoids every cycle the
model forbids (the polygraph of Cobra, OSDI 2020, and PolySI, VLDB 2023):

- choices.py: the open writes per key, from the inference;
- modelgraph.py: each model's graph (serial family: txn nodes; snapshot
  isolation family: a start and a commit node per txn);
- witness.py: a candidate completion (writes in commit order) and its edges;
- verify.py: whether a graph has a cycle, looked for only where one can be;
- regions.py: the strongly connected regions of every possible completion;
- search.py: the pruned case search inside one region;
- cases.py: a search tree as a finding a person can follow;
- problem.py: one region as a search problem;
- decide.py: the whole thing, per model, within a work budget.
"""
