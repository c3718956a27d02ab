package org.fedseal.registry;

/**
 * One provenance log leaf as served by {@code GET /api/log/entries}.
 *
 * @param index leaf index
 * @param entry base64 of the entry bytes (Avro binary of a LogEntry)
 * @param leafHash the leaf hash the registry stores for it (hex); auditors recompute it
 * @param kind the entry kind
 * @param modelId model
 * @param round round
 * @param subjectHash hash of the record the entry is about (hex)
 */
public record LogEntryInfo(
        long index, String entry, String leafHash, String kind, String modelId, int round, String subjectHash) {}
