"""vnimport: declarative spreadsheet import into Visma.net Financials."""

__version__ = "0.1.0"
