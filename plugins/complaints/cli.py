import click


@click.group("complaints")
def complaints() -> None:
    """Field complaints."""
