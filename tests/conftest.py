"""pytest options shared by the suite."""


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/<article>.csv from the current output instead of comparing "
                          "(review the diff before committing)")
