"""The ``aligntune`` command line (typer). Heavy libraries are imported only by the commands that use them."""
