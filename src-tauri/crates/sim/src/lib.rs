//! `reconnect-sim` simulates Microsoft's identity platform v2.0 endpoints on
//! loopback, with controls to break any grant the way the real service does.
