"""The benchmark: the hook's costs as ratios to a floor and to peers measured in the same run."""
