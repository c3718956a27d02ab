package org.fedseal.registry;

import java.util.List;

/**
 * An accepted update of a round and where its archived ciphertexts are.
 *
 * @param updateHash canonical hash of the UpdateCommit (hex); the commit blob is served under it
 * @param clientId the contributing client
 * @param updateId the client's update id
 * @param weight sample count
 * @param archived true if the commit and all chunks are in the archive
 * @param chunkHashes canonical hashes (hex) of the archived chunks, index = chunk index
 */
public record AcceptedUpdateInfo(
        String updateHash, String clientId, String updateId, long weight, boolean archived, List<String> chunkHashes) {}
