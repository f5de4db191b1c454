from mvcc_check.history.edn import loads_all


def test_reads_jepsen_op_maps():
    forms = loads_all('{:type :ok, :value [[:append 1 2] [:r 1 [2]]], :process 0} #_ x nil')
    assert forms == [{"type": "ok", "value": [["append", 1, 2], ["r", 1, [2]]], "process": 0}, None]
