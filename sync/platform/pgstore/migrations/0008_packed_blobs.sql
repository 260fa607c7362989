-- Where the object store keeps small blobs packed together (issue 12): a
-- batch's pages go to the bucket as one pack object, and this index says
-- which pack holds each page and where. A page packed twice (a retried
-- batch) keeps its first place; both copies hash to the address.
CREATE TABLE packed_blobs(sha text PRIMARY KEY, object text NOT NULL, off bigint NOT NULL, size bigint NOT NULL);
