//! `reconnect-signin` runs the interactive reconnect: authorization code +
//! PKCE through the system browser and a loopback redirect, bounded and safe.
