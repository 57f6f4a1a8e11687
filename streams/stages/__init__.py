"""One module per stage, in the order a video flows through them:
ingest -> frames / audio -> join -> match -> verdict."""
