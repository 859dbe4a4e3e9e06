namespace Wasmorch.Fleet;

/// <summary>
/// How a gateway proves itself to the fleet's NATS server and checks it (docs/fleet.md, Security):
/// a NATS credentials file (JWT + NKey seed), and TLS with the server's CA and, for mutual TLS, a
/// client certificate. A user and password go in the URL (nats://user:password@host:4222).
/// <see cref="InsecureDev"/> is the development flag: a server that lets anyone in, and no keys, are
/// accepted (and logged as critical) instead of refused. Timings are not security: see
/// <see cref="Gateway.Fleet.FleetTimings"/>.
/// </summary>
public sealed record FleetSecurity(string? CredsFile = null, string? TlsCa = null, string? TlsCert = null, string? TlsKey = null, bool InsecureDev = false);
