// The project's own fetch path (issue 11: Fetch responses read as bytes, record batches handed
// on still compressed), measured here once it lands in src/kafka/. Until then the candidate is
// listed and reported as unavailable, so the results table keeps its place.
//
// To measure it: make `unavailable` return null and fill in the child entry below with the
// source stage alone — fetch from `input.starts` to `input.ends` and call
// `tally.add(partition, offset, valueBytes)` per record (or count per batch from the batch
// header, with the value bytes the decoder saw), as the other candidates do.

import type { Candidate } from '../candidate.js';
import { isEntry, nodeLaunch, runNodeChild } from '../node-child.js';

export const candidate: Candidate = {
  name: 'streamberg-fetch',
  codecs: ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
  unavailable: () => 'not written yet: the fetch path of issue 11 is not in src/kafka/',
  version: () => 'unreleased',
  launch: (input) => nodeLaunch(import.meta.url, input),
};

if (isEntry(import.meta.url)) {
  runNodeChild(async () => {
    throw new Error('streamberg-fetch: not written yet');
  });
}
