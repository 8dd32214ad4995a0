"""casetrail benchmarks: `make bench` (python -m bench). Figures are ratios to baselines
measured in the same run, because these machines are noisy."""
