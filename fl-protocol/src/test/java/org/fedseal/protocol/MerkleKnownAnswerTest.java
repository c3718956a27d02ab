package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Known-answer tests with the RFC 6962 vectors used by transparency-dev/merkle (testonly/constants.go,
 * cmd/proofgen) and certificate-transparency-go. Leaf indices in the published proof vectors are
 * 1-based; here they are converted to 0-based.
 */
class MerkleKnownAnswerTest {
    static final String[] LEAVES = {
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"
    };

    static final String[] ROOTS = {
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    };

    static final String[] LEAF_HASHES = {
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"
    };

    /** {leafIndex (0-based), treeSize, proof...}. */
    static final Object[][] INCLUSION = {
        {0L, 1L, new String[] {}},
        {
            0L,
            8L,
            new String[] {
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
            }
        },
        {
            5L,
            8L,
            new String[] {
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
            }
        },
        {2L, 3L, new String[] {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
        {
            1L,
            5L,
            new String[] {
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
            }
        },
    };

    /** {size1, size2, proof...}. */
    static final Object[][] CONSISTENCY = {
        {1L, 1L, new String[] {}},
        {
            1L,
            8L,
            new String[] {
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
            }
        },
        {
            6L,
            8L,
            new String[] {
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
            }
        },
        {
            2L,
            5L,
            new String[] {
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
            }
        },
        {
            6L,
            7L,
            new String[] {
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
            }
        },
    };

    static MerkleLog log8() {
        MerkleLog log = MerkleLog.inMemory("kat");
        for (String l : LEAVES) {
            log.append(HexFormat.of().parseHex(l));
        }
        return log;
    }

    static List<Hash> hashes(String[] hex) {
        List<Hash> out = new ArrayList<>();
        for (String h : hex) {
            out.add(Hash.fromHex(h));
        }
        return out;
    }

    @Test
    void emptyTreeHashIsSha256OfEmptyString() {
        assertEquals(ROOTS[0], MerkleHashes.emptyRoot().toHex());
        assertEquals(ROOTS[0], MerkleLog.inMemory("e").rootHash().toHex());
    }

    @Test
    void leafHashesMatch() {
        for (int i = 0; i < LEAVES.length; i++) {
            assertEquals(
                    LEAF_HASHES[i],
                    MerkleHashes.leafHash(HexFormat.of().parseHex(LEAVES[i])).toHex());
        }
    }

    @Test
    void rootsForSizes0To8Match() {
        MerkleLog log = log8();
        List<byte[]> entries = new ArrayList<>();
        for (int n = 0; n <= 8; n++) {
            assertEquals(ROOTS[n], log.rootHash(n).toHex(), "size " + n);
            assertEquals(ROOTS[n], MerkleHashes.rootOfEntries(entries).toHex(), "size " + n);
            if (n < 8) {
                entries.add(HexFormat.of().parseHex(LEAVES[n]));
            }
        }
        assertEquals(
                "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
                log.rootHash().toString());
    }

    @Test
    void inclusionProofsMatchPublishedVectorsAndVerify() {
        MerkleLog log = log8();
        for (Object[] v : INCLUSION) {
            long idx = (Long) v[0];
            long size = (Long) v[1];
            List<Hash> expected = hashes((String[]) v[2]);
            InclusionProof p = log.inclusionProof(idx, size);
            assertEquals(expected, p.path(), "proof for leaf " + idx + " in size " + size);
            assertTrue(MerkleVerifier.verifyInclusion(
                    log.leafHash(idx), idx, size, expected, Hash.fromHex(ROOTS[(int) size])));
        }
    }

    @Test
    void consistencyProofsMatchPublishedVectorsAndVerify() {
        MerkleLog log = log8();
        for (Object[] v : CONSISTENCY) {
            long m = (Long) v[0];
            long n = (Long) v[1];
            List<Hash> expected = hashes((String[]) v[2]);
            assertEquals(expected, log.consistencyProof(m, n).path(), "proof " + m + " -> " + n);
            assertTrue(
                    MerkleVerifier.verifyConsistency(
                            m, n, expected, Hash.fromHex(ROOTS[(int) m]), Hash.fromHex(ROOTS[(int) n])),
                    "verify " + m + " -> " + n);
        }
    }
}
