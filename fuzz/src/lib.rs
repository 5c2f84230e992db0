//! Shared code for the fuzz targets.
