from importer.cli import main_entry

main_entry()
