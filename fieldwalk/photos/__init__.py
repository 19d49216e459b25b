"""Photos of findings and action items.

- `pipeline`: the pure ingest (decode, orient upright, strip metadata, resize, thumbnail); no Flask.
- `store`: where the files live, content-addressed, behind one small interface (`PhotoStore`); the
  filesystem backend (default) is here, the S3 one in `s3`.
- `service`: the app side: limits from config, translated errors, attaching stored photos to rows.
- `views`: the access-checked route that serves a photo to someone allowed to see it.
"""
