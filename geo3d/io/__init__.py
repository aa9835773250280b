"""Reading and writing files: LAS/LAZ/COPC point clouds, vector layers, rasters."""
