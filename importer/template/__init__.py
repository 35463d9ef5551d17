"""Workbooks to fill (``vnimport template T``): the type's columns, headed
in the user's language, with notes, dropdowns and instructions.

- :mod:`importer.template.workbook`: :func:`~importer.template.workbook.write_template`;
- :mod:`importer.template.texts`: its words in English, Norwegian and Swedish.

(The Jinja templates that turn documents into requests are
:mod:`importer.render`'s.)
"""
