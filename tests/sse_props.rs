//! SSE parsing and chunk decoding are invariant under every way of splitting the same bytes.

use proptest::prelude::*;
use switchyard::sse::{SseItem, SseParser};
use switchyard::wire::chunk::{StreamDecoder, StreamEvent};

fn parse_in_pieces(bytes: &[u8], cuts: &[usize]) -> Vec<SseItem> {
    let mut p = SseParser::new();
    let mut out = Vec::new();
    let mut last = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    for c in cuts {
        p.feed(&bytes[last..c], &mut out);
        last = c;
    }
    p.feed(&bytes[last..], &mut out);
    out
}

fn decode(items: Vec<SseItem>) -> Vec<StreamEvent> {
    let mut d = StreamDecoder::new();
    let mut out = Vec::new();
    for i in items {
        d.decode(i, &mut out);
    }
    out
}

/// A realistic stream: keep-alives, chunks with multi-byte text, mixed line endings, [DONE].
fn stream_strategy() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(": OPENROUTER PROCESSING".to_string()),
        "[a-z é漢🦀\\\\\"]{0,12}".prop_map(|t| {
            let chunk = serde_json::json!({
                "id": "gen-1", "provider": "Sim", "model": "a/b",
                "choices": [{"index": 0, "delta": {"content": t}, "finish_reason": null}]
            });
            format!("data: {chunk}")
        }),
        Just("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3,\"cost\":\"0.1\"}}".to_string()),
        Just("event: message\nid: 9\ndata: {\"choices\":[]}".to_string()),
        Just("data: {broken".to_string()),
    ];
    let eol = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
    (prop::collection::vec(piece, 0..20), eol).prop_map(|(pieces, eol)| {
        let mut s = String::new();
        for p in pieces {
            s.push_str(&p.replace('\n', eol));
            s.push_str(eol);
            s.push_str(eol);
        }
        s.push_str("data: [DONE]");
        s.push_str(eol);
        s.push_str(eol);
        s.into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_split_gives_the_same_items(bytes in stream_strategy(), cuts in prop::collection::vec(any::<usize>(), 0..40)) {
        let whole = parse_in_pieces(&bytes, &[]);
        let split = parse_in_pieces(&bytes, &cuts);
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(decode(whole), decode(split));
    }

    #[test]
    fn byte_at_a_time_equals_whole(bytes in stream_strategy()) {
        let cuts: Vec<usize> = (0..=bytes.len()).collect();
        prop_assert_eq!(parse_in_pieces(&bytes, &[]), parse_in_pieces(&bytes, &cuts));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), cuts in prop::collection::vec(any::<usize>(), 0..10)) {
        let a = parse_in_pieces(&bytes, &[]);
        let b = parse_in_pieces(&bytes, &cuts);
        prop_assert_eq!(&a, &b);
        let _ = decode(b);
    }
}
