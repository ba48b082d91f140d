"""Backtests (`aml evaluate`): labelled datasets imported into the source contract, run through the
batch path and the rules Lambda, and scored account by account beside a naive baseline.

    from aml.evaluate import importers, pipeline
    dataset = importers.load("saml-d", "SAML-D.csv")   # Dataset: contract tables + labels apart
    summary = pipeline.run(dataset, pipeline.EvaluateConfig(out_dir=Path("out/evaluate")))

Modules: `importers` (one per published format), `dataset` (the common mapping into the contract),
`currencies`, `scoring` (pure set arithmetic), `baseline` (+ `baseline/*.sql`), `pipeline`, `report`.
"""
