package org.fedseal.client;

import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.wire.UpdateCommit;

/**
 * What a successful {@link FederatedClient#submit} sent.
 *
 * @param commit the signed commit record
 * @param chunkCount number of chunk records
 * @param bytesSent bytes of Kafka record values written (chunks + commit, last attempt)
 */
public record SubmissionReceipt(UpdateCommit commit, int chunkCount, long bytesSent) {
    /** The update id. */
    public String updateId() {
        return commit.getUpdateId();
    }

    /** Canonical hash of the commit: the update's identity in the aggregate's Merkle root. */
    public Hash commitHash() {
        return CanonicalHash.of(commit);
    }
}
