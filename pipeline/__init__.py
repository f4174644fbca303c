"""cn-news-facts: facts out of Chinese news articles (`python -m pipeline --help`).

`load(out_dir)` gives the outputs of a run as typed pandas tables (see `pipeline.tables`);
pandas is imported only when it is first called, so `import pipeline` stays cheap for the
command line and the workers.
"""


def load(out_dir="outputs"):
    """The typed tables (`t.amount`, `t.count`, `t.percent`, `t.quantity`, `t.date`, `t.org`,
    `t.articles`) of the run whose CSVs are in out_dir; see `pipeline.tables`."""
    from .tables import load as load_tables
    return load_tables(out_dir)
