"""Date and time formats where Django has none or an ambiguous one (``FORMAT_MODULE_PATH``);
what a module leaves out comes from Django's own formats for the language."""
