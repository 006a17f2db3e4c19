//! A customer taking money back as cash: the phone asks for a code (through the network,
//! as a payment does), and the manager at a counter of that store keys it in.

use anyhow::Result;
use counter_core::transport::WireRequest;
use tillfund_core::protocol::ErrorBody;

use crate::workload::{money, shown};
use crate::world::{CUSTOMER_PIN, World};

impl World {
    pub(crate) async fn redeem(&mut self) -> Result<()> {
        let counter_index = self.pick_counter();
        let merchant = self.counters[counter_index].merchant;
        let customer_index = self.customer_for(merchant);
        let amount = self.rng.between(1, 30_000);
        let customer = &self.customers[customer_index];
        let body = serde_json::to_vec(&serde_json::json!({
            "merchant_id": self.merchants[merchant].id.to_string(),
            "amount": amount,
            "pin": CUSTOMER_PIN,
        }))?;
        let request = WireRequest {
            method: "POST",
            path_and_query: "/v1/wallet/redemption-codes".to_owned(),
            headers: vec![
                ("authorization".to_owned(), format!("Bearer {}", customer.token)),
                ("content-type".to_owned(), "application/json".to_owned()),
            ],
            body,
        };
        let label = customer.label.clone();
        let member_code = customer.member_code.clone();
        let answer = self.network.exchange(&label, request).await;
        let code = match &answer {
            Ok(answer) if (200..300).contains(&answer.status) => {
                serde_json::from_slice::<serde_json::Value>(&answer.body)?["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            }
            Ok(answer) => {
                let refusal = serde_json::from_slice::<ErrorBody>(&answer.body)
                    .map_or_else(|_| format!("HTTP {}", answer.status), |body| body.code);
                self.log(format!("{label} asks to cash out {} -> {refusal}", money(amount)));
                return Ok(());
            }
            Err(_) => {
                self.log(format!("{label} asks to cash out {} -> no answer", money(amount)));
                return Ok(());
            }
        };
        let counter = &self.counters[counter_index];
        let result = counter.counter.redeem(None, &member_code, &code, &money(amount)).await;
        let text = format!(
            "{} pays {label} out {} -> {}",
            counter.label,
            money(amount),
            shown(&result, |error| error.code().to_owned())
        );
        self.log(text);
        Ok(())
    }
}
