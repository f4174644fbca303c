"""The commands of `python -m pipeline`: cli parses the arguments, each other module does one command's work."""
