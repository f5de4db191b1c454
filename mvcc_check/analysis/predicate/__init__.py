"""Elle's closed-predicate workload: predicate reads, inserts and deletes over a closed universe."""
