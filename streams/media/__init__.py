"""Getting at a video's bytes and pictures: URI resolution under the configured limits, and
frame sampling with FFmpeg (PyAV). No shell is ever involved."""
