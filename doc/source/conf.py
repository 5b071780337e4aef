"""Sphinx configuration of nova's documentation."""

project = 'nova'
copyright = '2026, the nova structured-state-management team'
extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.viewcode',
]
exclude_patterns = ['_build']
html_theme = 'alabaster'
master_doc = 'index'
