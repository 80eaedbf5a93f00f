//! Input stages of clipstream: the list-file source (txt, csv, jsonl, parquet, a directory of videos) and fetch
//! (local files, http(s) behind an SSRF guard, object_store URLs).
