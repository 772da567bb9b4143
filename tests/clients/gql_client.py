"""Python `gql` against a running chidao: the schema fetched from the transport (its standard
introspection, under the default limits), then every task paged through with cursors, each
query validated by gql against that schema before it is sent.

Usage: gql_client.py URL TOKEN
"""
import sys

from gql import Client, gql
from gql.transport.requests import RequestsHTTPTransport

url, token = sys.argv[1], sys.argv[2]
transport = RequestsHTTPTransport(url=url, headers={"Authorization": "Bearer " + token}, timeout=30)
with Client(transport=transport, fetch_schema_from_transport=True) as session:
    schema = session.client.schema
    assert schema is not None and schema.get_type("Task") is not None, "schema fetched"
    page = gql("""query Page($after: String) {
        tasks(first: 20, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id code status } } }""")
    seen, after, total, pages = [], None, None, 0
    while True:
        r = session.execute(page, variable_values={"after": after})["tasks"]
        total = r["totalCount"] if total is None else total
        seen += [n["id"] for n in r["nodes"]]
        pages += 1
        if not r["pageInfo"]["hasNextPage"]:
            break
        after = r["pageInfo"]["endCursor"]
    assert len(seen) == total == len(set(seen)), f"{len(seen)} tasks paged, {total} counted"
    try:
        session.execute(gql("{ tasks { noSuchField } }"))
        raise AssertionError("gql validates against the fetched schema")
    except Exception as e:  # graphql-core's GraphQLError, raised before sending
        assert "noSuchField" in str(e), e
import gql as gql_pkg  # noqa: E402
print(f"ok   gql {gql_pkg.__version__}: schema fetched ({len(schema.type_map)} types); {total} tasks paged in {pages} pages of 20, each once; an unknown field refused client-side")
