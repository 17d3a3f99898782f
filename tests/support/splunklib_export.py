"""Reads one export search from the argus test server with Splunk's own SDK.

Usage: splunklib_export.py PORT TOKEN QUERY
Prints the final (non-preview) result rows as one JSON list on stdout.
"""

import json
import sys

import splunklib.client as client
import splunklib.results as results


def main():
    port, token, query = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    service = client.connect(
        host="127.0.0.1", port=port, scheme="http", splunkToken=token, autologin=False
    )
    reader = results.JSONResultsReader(service.jobs.export(query, output_mode="json"))
    rows = []
    for item in reader:
        if isinstance(item, dict) and reader.is_preview is False:
            rows.append(item)
    json.dump(rows, sys.stdout)


if __name__ == "__main__":
    main()
