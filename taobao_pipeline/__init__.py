"""taobao-pipeline: Taobao village designations from raw extracts."""
