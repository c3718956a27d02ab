package org.fedseal.registry.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fedseal.protocol.ConsistencyProof;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.InclusionProof;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.SignedTreeHead;
import org.fedseal.registry.RegistryConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The REST API, the OpenAPI document and the web page, on the JDK's HTTP server. */
public final class HttpApi implements HttpHandler {
    private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);
    /** Shared JSON mapper. */
    public static final ObjectMapper JSON = new ObjectMapper();

    private record Route(String method, Pattern pattern, boolean mutating, Handler handler) {}

    private record Request(HttpExchange ex, Matcher path, Map<String, String> query) {
        String param(int i) {
            return path.group(i);
        }

        long queryLong(String name, long dflt) {
            String v = query.get(name);
            if (v == null) {
                return dflt;
            }
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw ApiException.badRequest(name + " must be an integer");
            }
        }
    }

    private record Response(int status, String contentType, byte[] body) {
        static Response json(int status, Object value) {
            try {
                return new Response(status, "application/json", JSON.writeValueAsBytes(value));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        static Response bytes(byte[] body) {
            return new Response(200, "application/octet-stream", body);
        }
    }

    @FunctionalInterface
    private interface Handler {
        Response handle(Request r) throws IOException;
    }

    private final RegistryService svc;
    private final byte[] token;
    private final long maxBody;
    private final long maxIngestBody;
    private final UpdateIngest ingest;
    private final List<Route> routes = new ArrayList<>();

    /** Creates the API over {@code svc}, requiring {@code adminToken} on mutating endpoints. */
    public HttpApi(RegistryService svc, String adminToken, RegistryConfig config) {
        this.svc = svc;
        this.token = adminToken.getBytes(StandardCharsets.UTF_8);
        this.maxBody = Long.parseLong(config.get(RegistryConfig.MAX_BODY_BYTES));
        this.maxIngestBody = Long.parseLong(config.get(RegistryConfig.INGEST_MAX_BODY_BYTES));
        this.ingest = new UpdateIngest(svc);
        String id = "([A-Za-z0-9][A-Za-z0-9._-]{0,127})";
        String hash = "([0-9a-fA-F]{64})";
        get("/", r -> resource("web/index.html", "text/html; charset=utf-8"));
        get("/app.js", r -> resource("web/app.js", "text/javascript; charset=utf-8"));
        get("/openapi.json", r -> resource("openapi.json", "application/json"));
        get("/health", r -> Response.json(200, health()));
        post("/api/models", true, this::registerModel);
        get("/api/models", r -> Response.json(200, svc.models()));
        get("/api/models/" + id, r -> Response.json(200, svc.model(r.param(1))));
        add("PUT", "/api/models/" + id + "/he-public-key", true, this::putHeKey);
        get("/api/he-public-keys/" + hash, r -> Response.bytes(svc.hePublicKey(hash(r.param(1)))));
        post("/api/clients", true, this::enroll);
        get("/api/clients/" + id, r -> Response.json(200, svc.client(r.param(1))));
        post("/api/models/" + id + "/rounds", true, this::openRound);
        get("/api/models/" + id + "/rounds", r -> Response.json(200, svc.rounds(r.param(1))));
        get("/api/models/" + id + "/rounds/current/record", r -> Response.bytes(WireCodec.UNBOUNDED.encode(svc.currentRound(r.param(1))
                .orElseThrow(() -> ApiException.notFound("model " + r.param(1) + " has no open round")))));
        get("/api/models/" + id + "/rounds/(\\d{1,9})/record", r -> Response.bytes(WireCodec.UNBOUNDED.encode(
                svc.roundOpened(r.param(1), Integer.parseInt(r.param(2))))));
        post("/api/ingest/updates", false, this::ingestUpdates);
        get("/api/models/" + id + "/rounds/(\\d{1,9})", r -> Response.json(200, svc.round(r.param(1), Integer.parseInt(r.param(2)))));
        get("/api/models/" + id + "/rounds/(\\d{1,9})/aggregate", r -> Response.bytes(svc.aggregateBytes(r.param(1), Integer.parseInt(r.param(2)))
                .orElseThrow(() -> ApiException.notFound("round " + r.param(1) + "/" + r.param(2) + " has no aggregate"))));
        get("/api/models/" + id + "/rounds/(\\d{1,9})/updates", r -> {
            svc.round(r.param(1), Integer.parseInt(r.param(2)));
            return Response.json(200, svc.acceptedUpdates(r.param(1), Integer.parseInt(r.param(2))));
        });
        get("/api/models/" + id + "/rounds/(\\d{1,9})/decryption-shares", r -> Response.json(200,
                svc.decryptionShares(r.param(1), Integer.parseInt(r.param(2)))));
        post("/api/models/" + id + "/ceremonies", true, this::openCeremony);
        get("/api/ceremonies/" + id, r -> Response.json(200, svc.ceremony(r.param(1))));
        get("/api/ceremonies/" + id + "/record", r -> Response.bytes(WireCodec.UNBOUNDED.encode(svc.ceremonyRecord(r.param(1)))));
        post("/api/models/" + id + "/versions", false, this::publishVersion);
        get("/api/models/" + id + "/versions", r -> Response.json(200, svc.versions(r.param(1))));
        get("/api/versions/" + hash, r -> Response.json(200, svc.version(hash(r.param(1)))));
        get("/api/versions/" + hash + "/weights", r -> Response.bytes(svc.weights(hash(r.param(1)))));
        get("/api/versions/" + hash + "/record", r -> Response.bytes(svc.versionRecord(hash(r.param(1)))));
        add("PUT", "/api/versions/" + hash + "/accuracy", true, r -> {
            JsonNode b = jsonBody(r);
            if (!b.path("accuracy").isNumber()) {
                throw ApiException.badRequest("accuracy (number) is required");
            }
            return Response.json(200, svc.setAccuracy(hash(r.param(1)), b.get("accuracy").asDouble()));
        });
        get("/api/blobs/" + hash, r -> Response.bytes(svc.blob(hash(r.param(1)))));
        get("/api/log/key", r -> Response.json(200, Map.of("publicKey", b64(svc.logKey().publicKey().toX509()),
                "fingerprint", svc.logKey().publicKey().fingerprint().toHex(), "logId", svc.log().logId())));
        get("/api/log/sth", r -> Response.json(200, sthJson(svc.signedTreeHead())));
        get("/api/log/sth/history", r -> Response.json(200, svc.treeHeadHistory().stream().map(HttpApi::sthJson).toList()));
        get("/api/log/entries", r -> Response.json(200, svc.entries(r.queryLong("start", 0), r.queryLong("end", r.queryLong("start", 0) + 1000))));
        get("/api/log/inclusion", r -> {
            InclusionProof p = svc.inclusionProof(r.queryLong("index", -1), r.queryLong("treeSize", -1));
            return Response.json(200, Map.of("leafIndex", p.leafIndex(), "treeSize", p.treeSize(), "path", p.path().stream().map(Hash::toHex).toList()));
        });
        get("/api/log/consistency", r -> {
            ConsistencyProof p = svc.consistencyProof(r.queryLong("first", -1), r.queryLong("second", -1));
            return Response.json(200, Map.of("size1", p.size1(), "size2", p.size2(), "path", p.path().stream().map(Hash::toHex).toList()));
        });
        get("/api/log/lookup/" + hash, r -> {
            long idx = svc.findSubject(hash(r.param(1)), r.query().get("kind"));
            if (idx < 0) {
                throw ApiException.notFound("no log entry about " + r.param(1));
            }
            return Response.json(200, Map.of("index", idx));
        });
        get("/api/log/verify", r -> Response.json(200, svc.verifyLog()));
    }

    private void get(String path, Handler h) {
        add("GET", path, false, h);
    }

    private void post(String path, boolean mutating, Handler h) {
        add("POST", path, mutating, h);
    }

    private void add(String method, String path, boolean mutating, Handler h) {
        routes.add(new Route(method, Pattern.compile(path), mutating, h));
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        Response resp;
        try {
            resp = dispatch(ex);
        } catch (ApiException e) {
            resp = error(e.status(), e.code(), e.getMessage());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            resp = error(400, "invalid_json", e.getOriginalMessage());
        } catch (IllegalArgumentException e) {
            resp = error(400, "invalid_request", String.valueOf(e.getMessage()));
        } catch (RuntimeException | IOException e) {
            LOG.error("{} {} failed", ex.getRequestMethod(), ex.getRequestURI(), e);
            resp = error(500, "internal_error", e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        try (ex) {
            ex.getResponseHeaders().set("Content-Type", resp.contentType());
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            if ("HEAD".equals(ex.getRequestMethod())) {
                ex.sendResponseHeaders(resp.status(), -1);
                return;
            }
            ex.sendResponseHeaders(resp.status(), resp.body().length == 0 ? -1 : resp.body().length);
            if (resp.body().length > 0) {
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(resp.body());
                }
            }
        }
    }

    private Response dispatch(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod().equals("HEAD") ? "GET" : ex.getRequestMethod();
        boolean pathMatched = false;
        for (Route route : routes) {
            Matcher m = route.pattern().matcher(path);
            if (!m.matches()) {
                continue;
            }
            pathMatched = true;
            if (!route.method().equals(method)) {
                continue;
            }
            if (route.mutating()) {
                requireToken(ex);
            }
            return route.handler().handle(new Request(ex, m, query(ex.getRequestURI().getRawQuery())));
        }
        if (pathMatched) {
            throw new ApiException(405, "method_not_allowed", method + " not allowed on " + path);
        }
        throw ApiException.notFound("no such endpoint: " + path);
    }

    private void requireToken(HttpExchange ex) {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth == null || !auth.startsWith("Bearer ")) {
            throw new ApiException(401, "unauthorized", "this endpoint needs 'Authorization: Bearer <token>'");
        }
        byte[] given = auth.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, token)) {
            throw new ApiException(403, "forbidden", "wrong bearer token");
        }
    }

    // ------------------------------------------------------------ handlers

    private Response registerModel(Request r) throws IOException {
        JsonNode b = jsonBody(r);
        byte[] weights;
        if (b.hasNonNull("weightsBase64")) {
            weights = base64(b.get("weightsBase64").asText(), "weightsBase64");
        } else if (b.path("weights").isArray()) {
            JsonNode arr = b.get("weights");
            ByteBuffer buf = ByteBuffer.allocate(arr.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (JsonNode n : arr) {
                if (!n.isNumber()) {
                    throw ApiException.badRequest("weights must be numbers");
                }
                buf.putFloat(n.floatValue());
            }
            weights = buf.array();
        } else {
            throw ApiException.badRequest("weightsBase64 (float32 little-endian) or weights (array of numbers) is required");
        }
        return Response.json(201, svc.registerModel(text(b, "modelId"), text(b, "architecture"), text(b, "heParamsId"), weights,
                b.hasNonNull("keyHolderId") ? b.get("keyHolderId").asText() : null));
    }

    private Response putHeKey(Request r) throws IOException {
        byte[] body = body(r);
        String ct = r.ex().getRequestHeaders().getFirst("Content-Type");
        byte[] key = ct != null && ct.startsWith("application/json")
                ? base64(text(JSON.readTree(body), "publicKeyBase64"), "publicKeyBase64") : body;
        Hash h = svc.putHePublicKey(r.param(1), key);
        return Response.json(201, Map.of("modelId", r.param(1), "hash", h.toHex(), "bytes", key.length));
    }

    private Response enroll(Request r) throws IOException {
        JsonNode b = jsonBody(r);
        List<String> models = new ArrayList<>();
        b.path("modelIds").forEach(n -> models.add(n.asText()));
        String clientId = text(b, "clientId");
        boolean published = svc.enrollClient(clientId, base64(text(b, "publicKey"), "publicKey"), models);
        Map<String, Object> out = new LinkedHashMap<>(svc.client(clientId));
        out.put("published", published);
        return Response.json(201, out);
    }

    private Response openRound(Request r) throws IOException {
        JsonNode b = jsonBody(r);
        long deadline;
        if (b.hasNonNull("deadlineEpochMillis")) {
            deadline = b.get("deadlineEpochMillis").asLong();
        } else if (b.hasNonNull("deadlineSeconds")) {
            deadline = System.currentTimeMillis() + b.get("deadlineSeconds").asLong() * 1000;
        } else {
            throw ApiException.badRequest("deadlineEpochMillis or deadlineSeconds is required");
        }
        if (!b.path("quorum").canConvertToInt()) {
            throw ApiException.badRequest("quorum (integer) is required");
        }
        return Response.json(201, svc.openRound(r.param(1), b.get("quorum").asInt(), deadline, b.path("localEpochs").asInt(1),
                b.path("ciphertextsPerChunk").asInt(6)));
    }

    private Response openCeremony(Request r) throws IOException {
        JsonNode b = jsonBody(r);
        List<String> holders = new ArrayList<>();
        if (!b.path("holderIds").isArray()) {
            throw ApiException.badRequest("holderIds (array of enrolled client ids) is required");
        }
        b.get("holderIds").forEach(n -> holders.add(n.asText()));
        return Response.json(201, svc.openCeremony(r.param(1), b.hasNonNull("ceremonyId") ? b.get("ceremonyId").asText() : null,
                holders));
    }

    private Response ingestUpdates(Request r) throws IOException {
        byte[] body;
        try (InputStream in = r.ex().getRequestBody()) {
            body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxIngestBody + 1));
        }
        if (body.length > maxIngestBody) {
            throw new ApiException(413, "too_large", "ingest request body exceeds " + maxIngestBody + " bytes");
        }
        var h = r.ex().getRequestHeaders();
        return Response.json(202, ingest.ingest(h.getFirst("Content-Type"), h.getFirst(UpdateIngest.HEADER_CLIENT),
                h.getFirst(UpdateIngest.HEADER_SIGNATURE), body));
    }

    private Response publishVersion(Request r) throws IOException {
        JsonNode b = jsonBody(r);
        byte[] record = base64(text(b, "record"), "record");
        byte[] weights = base64(text(b, "weightsBase64"), "weightsBase64");
        Double acc = b.path("accuracy").isNumber() ? b.get("accuracy").asDouble() : null;
        var v = svc.publishVersion(record, text(b, "publisherId"), weights, acc);
        if (!v.modelId().equals(r.param(1))) {
            throw ApiException.badRequest("record is for model " + v.modelId());
        }
        return Response.json(201, v);
    }

    private Map<String, Object> health() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", svc.integrityProblem() == null ? "ok" : "integrity_problem");
        if (svc.integrityProblem() != null) {
            m.put("problem", svc.integrityProblem());
        }
        m.put("logSize", svc.log().size());
        return m;
    }

    /** JSON form of a tree head: fields plus the signed Avro record in base64. */
    public static Map<String, Object> sthJson(SignedTreeHead h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("logId", h.getLogId());
        m.put("treeSize", h.getTreeSize());
        m.put("rootHash", Hash.of(h.getRootHash()).toHex());
        m.put("timestampEpochMillis", h.getTimestampEpochMillis());
        m.put("signature", b64(bytes(h.getSignature())));
        m.put("record", b64(WireCodec.UNBOUNDED.encode(h)));
        return m;
    }

    // ------------------------------------------------------------ helpers

    private Response resource(String name, String type) throws IOException {
        try (InputStream in = HttpApi.class.getResourceAsStream("/org/fedseal/registry/" + name)) {
            if (in == null) {
                throw ApiException.notFound(name);
            }
            return new Response(200, type, in.readAllBytes());
        }
    }

    private static Response error(int status, String code, String message) {
        ObjectNode n = JSON.createObjectNode();
        n.put("code", code);
        n.put("message", message);
        return Response.json(status, n);
    }

    private byte[] body(Request r) throws IOException {
        try (InputStream in = r.ex().getRequestBody()) {
            byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBody + 1));
            if (b.length > maxBody) {
                throw new ApiException(413, "too_large", "request body exceeds " + maxBody + " bytes");
            }
            return b;
        }
    }

    private JsonNode jsonBody(Request r) throws IOException {
        byte[] b = body(r);
        if (b.length == 0) {
            throw ApiException.badRequest("a JSON body is required");
        }
        JsonNode n = JSON.readTree(b);
        if (n == null || !n.isObject()) {
            throw ApiException.badRequest("the body must be a JSON object");
        }
        return n;
    }

    private static String text(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull() || !n.isTextual() || n.asText().isEmpty()) {
            throw ApiException.badRequest(field + " (string) is required");
        }
        return n.asText();
    }

    private static byte[] base64(String s, String field) {
        try {
            return Base64.getDecoder().decode(s.trim());
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(field + " is not valid base64");
        }
    }

    private static Hash hash(String hex) {
        return Hash.fromHex(hex.toLowerCase(java.util.Locale.ROOT));
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> q = new HashMap<>();
        if (raw == null) {
            return q;
        }
        for (String part : raw.split("&")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                q.put(URLDecoder.decode(part.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return q;
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
