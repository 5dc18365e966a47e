"""Server-rendered pages, one module per role. Views are thin: read a form, call one
service or selector of the app that owns the data, render."""
