"""Metric sources: where a key result's value can be fetched from, behind one small
interface (`MetricSource`), with the network rules every fetch obeys (`safety`)."""
