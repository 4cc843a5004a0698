"""Container entry: ``python -m services.evaluator [--window-days N] [--end YYYY-MM-DD]``."""

from services.evaluator.cli import main

main()
