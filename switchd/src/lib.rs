//! The switch daemon and its command-line client.
