"""Extraction sheets: schema, loading (CSV or Excel), validation, therapy vocabulary, derived values.

    from metacalc.data import load_dataset, Dataset
    ds = load_dataset("extraction_sheets")   # raises metacalc.errors.UserError listing every problem

The names are imported lazily so that ``metacalc --help`` does not pay for pandas and pandera.
"""

__all__ = ["Dataset", "build_vocabulary", "load_dataset", "load_schema"]


def __getattr__(name):
    if name in ("load_dataset", "Dataset"):
        from metacalc.data import dataset

        return getattr(dataset, name)
    if name == "load_schema":
        from metacalc.data.schema import load_schema

        return load_schema
    if name == "build_vocabulary":
        from metacalc.data.vocabulary import build_vocabulary

        return build_vocabulary
    raise AttributeError(f"module 'metacalc.data' has no attribute {name!r}")
