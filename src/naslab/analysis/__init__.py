"""Analysis without torch: statistics for comparing runs, exact random-search baselines,
functional ANOVA, landscape and isomorphism statistics of tabular search spaces.

Modules: ``stats`` (confidence bands, Mann-Whitney U, ranks), ``best_of_n`` (exact expected
best-of-N of random search, Monte-Carlo check), ``fanova`` (exact variance decomposition over a
full grid of choices), ``landscape`` (fitness-distance correlation, random-walk
autocorrelation, local optima), ``isomorphism`` (class statistics), ``space`` (everything for
one benchmark target: ``analyze_space``) and ``compare`` (strategies against the exact random
baseline).
"""
